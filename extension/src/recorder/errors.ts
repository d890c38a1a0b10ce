/** An error a user can hit while recording; its message says what to do next. */
export class RecorderError extends Error {}
