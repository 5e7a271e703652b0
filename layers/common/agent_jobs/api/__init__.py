"""HTTP API: Powertools resolvers, routers, the error envelope and table-driven authorization."""
