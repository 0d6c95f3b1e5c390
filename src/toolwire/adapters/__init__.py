"""I/O at the edges: event buses, the WebSocket bridge, the web app, auth, tool loading."""
