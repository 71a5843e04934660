// Placeholder: RowCursor arrives in this commit series.
