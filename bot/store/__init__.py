"""Storage: the schema, the engine and the queries. Only this package speaks SQL."""
