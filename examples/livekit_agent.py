"""A LiveKit voice agent that speaks with Supertonic.

Speech to text and the LLM are OpenAI's (any LiveKit STT/LLM plugin works the same way);
the voice is Supertonic, running in the agent's own process or on a Supertonic server.

What you need:

- a LiveKit server: ``LIVEKIT_URL``, ``LIVEKIT_API_KEY``, ``LIVEKIT_API_SECRET``
  (LiveKit Cloud, or ``livekit-server --dev`` on your machine);
- ``OPENAI_API_KEY`` for speech recognition and the LLM;
- the Supertonic model, once:

      python examples/livekit_agent.py download-files
      # same as: python -m livekit.agents download-files

  (``SUPERTONIC_MODEL_DIR=/path/to/bundle`` uses a bundle you already have instead).

Run it:

    python examples/livekit_agent.py dev        # joins rooms as they are created
    python examples/livekit_agent.py console    # talk to it from this terminal

Where the voice runs:

- by default in this process: each worker process loads the model once, in the
  ``setup_fnc`` (LiveKit's prewarm hook), and every session shares that engine;
- with ``SUPERTONIC_BASE_URL=http://host:8000`` (and ``SUPERTONIC_API_KEY`` if the server
  has keys) on a Supertonic server, through a pool of WebSocket connections; the agent
  process then loads no model at all.

Other knobs: ``SUPERTONIC_VOICE`` (F1..F5, M1..M5, an OpenAI name, or a blend such as
``F1*0.7+M2*0.3``), ``SUPERTONIC_LANG`` (en, ko, ja, de, fr, es, ...).
"""

from __future__ import annotations

import logging
import os

from livekit.agents import (
    Agent,
    AgentServer,
    AgentSession,
    JobContext,
    JobProcess,
    cli,
)
from livekit.plugins import openai, supertonic

logger = logging.getLogger("supertonic-agent")

INSTRUCTIONS = (
    "You are a friendly voice assistant. Answer in short, spoken sentences: no lists, "
    "no markdown, no emoji, and spell out symbols the way you would say them."
)


def prewarm(proc: JobProcess) -> None:
    """Load Supertonic once per worker process, before any job arrives."""
    if os.environ.get("SUPERTONIC_BASE_URL"):
        return  # the server has the model
    from supertonic_core import Engine

    engine = Engine.load(model_dir=os.environ.get("SUPERTONIC_MODEL_DIR"), download=False)
    engine.warmup()  # the first reply pays no graph set-up
    proc.userdata["supertonic_engine"] = engine


# loading and warming the model takes a few seconds on a small CPU
server = AgentServer(setup_fnc=prewarm, initialize_process_timeout=120.0)


def make_tts(proc: JobProcess) -> supertonic.TTS:
    voice = os.environ.get("SUPERTONIC_VOICE", "F1")
    language = os.environ.get("SUPERTONIC_LANG", "en")
    if base_url := os.environ.get("SUPERTONIC_BASE_URL"):
        return supertonic.TTS(base_url=base_url, voice=voice, language=language)
    return supertonic.TTS(engine=proc.userdata["supertonic_engine"], voice=voice, language=language)


@server.rtc_session()
async def entrypoint(ctx: JobContext) -> None:
    session = AgentSession(
        stt=openai.STT(model="gpt-4o-mini-transcribe", use_realtime=True),
        llm=openai.LLM(model="gpt-4.1-mini"),
        tts=make_tts(ctx.proc),
        # captions follow the words as they are spoken, from Supertonic's word timings
        use_tts_aligned_transcript=True,
    )
    await session.start(agent=Agent(instructions=INSTRUCTIONS), room=ctx.room)
    await session.generate_reply(instructions="Greet the user and offer your help.")


if __name__ == "__main__":
    cli.run_app(server)
