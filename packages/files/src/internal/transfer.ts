/**
 * The bytes side of an upload, as `Files` and `uploadFlow` use it: settings (`transferSettings`), planning
 * (`uploadPlan`), one PUT (`uploadPut`, sending each body by `uploadBody` over `uploadRequest`) and multipart parts
 * (`uploadParts`).
 *
 * @internal
 */
export { limits, makeSettings, makeTransferSettings } from "./transferSettings.js"
export type { TransferOptions, TransferSettings } from "./transferSettings.js"
export { planParts, prepare, prepareInMemory, spoolThreshold } from "./uploadPlan.js"
export type { Plan, Prepared } from "./uploadPlan.js"
export type { TransferResult } from "./uploadPut.js"
export { putParts, toParts } from "./uploadParts.js"
export { putPart, putSingle } from "./uploadPut.js"
