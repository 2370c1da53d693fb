"""Store interfaces (graph, search), each with an embedded default and server backends."""
