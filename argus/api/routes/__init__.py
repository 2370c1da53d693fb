"""The API's routers, one module per area; `argus.api.app` includes them all."""
