"""The playground: a local web page to invent names, complete poems, improvise jazz and train text models.

`seqlab serve` runs it; `seqlab.app.server.create_app` builds the application (FastAPI, the `app` extra).
"""
