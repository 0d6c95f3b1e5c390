"""AG-UI: the event mapping, `POST /agui` over SSE, and AG-UI over the WebSocket."""
