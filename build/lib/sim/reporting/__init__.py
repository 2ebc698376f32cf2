"""Results for readers: results folders, tables, figures, maps and weekly bulletins."""
