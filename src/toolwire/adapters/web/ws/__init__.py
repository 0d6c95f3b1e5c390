"""The WebSocket transport: `GET /ws`, its frames, its sessions."""
