export { KeyRulesError } from './errors.js';
export type { ColumnValue, Row, RowChange } from './change.js';
export { compileTemplate, renderTemplate, type Template, type TemplatePart } from './template.js';
export { parseKeyRules, OPERATION_KINDS, type KeyRules, type TableRule, type TruncateRule, type OperationKind } from './schema.js';
export { loadKeyRules } from './load.js';
export { renderChange, renderTruncate, type RenderResult, type TruncateResult } from './render.js';
export { parseExplicitInvalidation, MAX_EXPLICIT_ENTRIES, type ExplicitResult } from './explicit.js';
