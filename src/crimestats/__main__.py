from crimestats.cli import app

app(prog_name="crimestats")
