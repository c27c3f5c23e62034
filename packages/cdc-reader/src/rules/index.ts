export type { ColumnValue, Row, RowChange } from './change.js';
export { KeyRulesError } from './errors.js';
export {
  IDENTITY_NAMES,
  type IdentityFindings,
  identityFindings,
  type OldRowNeed,
  type ReplicaIdentityCode,
  type TableCatalog,
  type TemplateRef,
  templatePath,
} from './identity-needs.js';
export { loadKeyRules } from './load.js';
export { type RecoveryPlan, renderRecovery } from './recovery.js';
export {
  type RenderFailure,
  type RenderResult,
  renderChange,
  renderTruncate,
  type SkipCause,
  type TruncateResult,
} from './render.js';
export {
  type KeyRules,
  OPERATION_KINDS,
  type OperationKind,
  parseKeyRules,
  type TableRule,
  type TruncateRule,
} from './schema.js';
export { compileTemplate, renderTemplate, type Template, type TemplatePart } from './template.js';
