/**
 * Custom LSP methods between the extension (client) and the language server.
 * Names follow `elixirScope/verbNoun`.
 */
import type { InstrumentationPlan } from "./wire";

/** client → server request: the instrumentation plan for the workspace. */
export const GET_INSTRUMENTATION_PLAN = "elixirScope/getInstrumentationPlan";

export interface GetInstrumentationPlanParams {
  /** Workspace folder as a file path. */
  root: string;
}

/** The plan without the parts only the recorder knows (lib_dir, value bounds). */
export type PlanResult = Pick<InstrumentationPlan, "modules">;

/** client → server request: the function (clause) enclosing a position. */
export const GET_ENCLOSING_FUNCTION = "elixirScope/getEnclosingFunction";

export interface GetEnclosingFunctionParams {
  uri: string;
  /** 0-based line. */
  line: number;
}

export interface EnclosingFunction {
  module: string;
  name: string;
  arity: number;
  /** 0-based lines of the whole definition. */
  startLine: number;
  endLine: number;
  params: string[];
}

/**
 * Command (declared by the extension) that the server's test code lenses run:
 * arguments `(uri: string, line?: number)`; line is 1-based and selects one test or describe.
 */
export const RECORD_TEST_COMMAND = "elixirScope.recordTest";
