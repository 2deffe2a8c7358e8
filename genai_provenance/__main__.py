from genai_provenance.cli import main

main()
