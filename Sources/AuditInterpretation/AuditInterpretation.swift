// What a record's values mean. Filled by the interpretation tables (see docs/design.md,
// "Interpretation").
