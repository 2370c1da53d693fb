from argus.cli import app

app()
