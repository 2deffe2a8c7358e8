from genai_provenance.cli.entry import run

run()
