"""Entry point of the llmplatform component provider (PulumiPlugin.yaml beside it): `pulumi package add` runs it."""
from llmplatform.provider import main

if __name__ == "__main__":
    main()
