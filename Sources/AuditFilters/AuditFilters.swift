// Keep/drop rules for events (see docs/design.md, "Filters").
