"""The demo blog platform: three dataflows of plain Lambda handlers, run on the local runtime."""
