// TextEncoder and TextDecoder, which every host of protocol/ has (Node, browsers, VS Code's
// webviews) but the ES library alone does not declare: protocol/ is compiled without DOM or
// Node types so that it can use neither platform's other APIs.
declare class TextDecoder {
  constructor(label?: string, options?: { fatal?: boolean; ignoreBOM?: boolean });
  decode(input?: Uint8Array): string;
}
declare class TextEncoder {
  encode(input?: string): Uint8Array;
}
