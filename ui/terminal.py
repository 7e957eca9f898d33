"""`rag chat`: a conversation in the terminal, or a scripted one through a pipe.

In a terminal: the sources are printed as soon as retrieval has them, then the answer streams in;
`/sources`, `/open N`, `/new`, `/help` and `/quit` act on the conversation. From a pipe: one answer
per line of input (follow-ups still see the earlier lines), as text or, with `--json`, as one JSON
object per line. Every answered turn is saved to the conversation store, like the page's.
"""
from __future__ import annotations

import json
import textwrap
from typing import IO, Iterable

from rag import Delta, Final, RagError, Sources
from rag.present.messages import error_message, message
from rag.present.render import answer_footer, answer_sources, answer_text, passage_line

HELP = """commands:
  /sources   the sources of the last answer, with the cited sentences
  /open N    the passage of source N in its document, with what surrounds it
  /new       start a new conversation
  /quit      leave (Ctrl-D too)"""

CONTEXT_CHARS = 400  # shown on each side of a passage by /open


class TerminalChat:
    """One terminal conversation; `run` reads questions and commands until the input ends."""

    def __init__(self, assistant, conversations, owner: str, collection: str, out: IO[str],
                 as_json: bool = False, interactive: bool = True) -> None:
        self.assistant = assistant
        self.conversations = conversations
        self.owner = owner
        self.collection = collection
        self.out = out
        self.as_json = as_json
        self.interactive = interactive
        self.conversation_id: str | None = None
        self.history: list[tuple[str, str]] = []
        self.last = None  # the last Answer
        self.failures = 0

    def say(self, text: str = "", end: str = "\n") -> None:
        self.out.write(text + end)
        self.out.flush()

    def resume(self, conversation) -> None:
        """Go on with a saved conversation (`rag chat --continue`): its history feeds the follow-ups,
        and /sources and /open act on its last answer."""
        self.conversation_id = conversation.id
        self.history = conversation.history
        self.last = conversation.answers[-1] if conversation.turns else None
        if self.interactive:
            turns = len(conversation.turns)
            self.say(f"continuing “{conversation.title or conversation.id[:8]}” ({turns} turn"
                     f"{'' if turns == 1 else 's'}, in {conversation.collection})")
            if conversation.turns:
                last = conversation.turns[-1]
                self.say(f"› {last.question}")
                self.say(answer_text(last.answer))
                self.say()

    # -- commands ----------------------------------------------------------------------------
    def command(self, line: str) -> bool:
        """Run a /command; False to stop."""
        name, _, arg = line.partition(" ")
        name = name.lower()
        if name in ("/quit", "/exit", "/q"):
            return False
        if name == "/new":
            self.conversation_id, self.history, self.last = None, [], None
            self.say("(new conversation)")
        elif name == "/sources":
            self.show_sources()
        elif name == "/open":
            self.open_source(arg.strip())
        else:
            self.say(HELP)
        return True

    def _sources(self):
        return answer_sources(self.last) if self.last is not None else []

    def show_sources(self) -> None:
        sources = self._sources()
        if not sources:
            self.say("no sources yet: ask a question first")
            return
        for n, s in sources:
            passage = getattr(s, "passage", s)
            self.say(passage_line(n, passage))
            if s is not passage:
                self.say(f"    cited: {s.text} (chars {s.start}-{s.end})")

    def open_source(self, arg: str) -> None:
        sources = dict(self._sources())
        if not arg.isdigit() or int(arg) not in sources:
            known = ", ".join(str(n) for n in sources) or "none yet"
            self.say(f"/open takes the number of a source of the last answer ({known})")
            return
        s = sources[int(arg)]
        passage = getattr(s, "passage", s)
        try:
            chunks = self.assistant.document(passage.document)
        except RagError as e:
            self.say(f"error: {e}")
            return
        # The stored text around the passage, in reading order; cleaning may have removed some.
        before = "".join(c.text for c in chunks if c.end <= passage.start)[-CONTEXT_CHARS:]
        after = "".join(c.text for c in chunks if c.start >= passage.end)[:CONTEXT_CHARS]
        self.say(f"── {passage.document} ({passage.language}, chars {passage.start}-{passage.end}) ──")
        self.say(textwrap.fill(" ".join(before.split()), 100) if before.strip() else "")
        self.say(f">>> {' '.join(passage.text.split())} <<<")
        self.say(textwrap.fill(" ".join(after.split()), 100) if after.strip() else "")

    # -- questions ---------------------------------------------------------------------------
    def ask(self, question: str) -> None:
        streamed: list[str] = []
        answer = None
        try:
            for event in self.assistant.ask_stream(question, self.history):
                if isinstance(event, Sources) and not self.as_json:
                    if self.interactive and event.passages:
                        self.say(f"{message('sources', self.assistant.language_of(question))}:")
                        for i, p in enumerate(event.passages, 1):
                            self.say(passage_line(i, p, width=100))
                        self.say()
                elif isinstance(event, Delta) and self.interactive and not self.as_json:
                    streamed.append(event.text)
                    self.say(event.text, end="")
                elif isinstance(event, Final):
                    answer = event.answer
        except RagError as e:
            self.failures += 1
            language = self.assistant.language_of(question)
            if self.as_json:
                self.say(json.dumps({"question": question, "error": str(e)}, ensure_ascii=False))
            else:
                self.say(("\n" if streamed else "") + f"error: {error_message(e, language)}")
            return
        self.last = answer
        self.save(question, answer)
        self.history.append((question, answer.text))
        if self.as_json:
            self.say(json.dumps({"question": question, "conversation": self.conversation_id, **answer.to_dict()},
                                ensure_ascii=False))
        elif self.interactive:
            if streamed:
                self.say()
            if "".join(streamed).strip() != answer.text.strip():
                # The checks changed what streamed (a refusal, a moved citation): the shown answer is this.
                self.say(answer.text)
            footer = answer_footer(answer)
            if footer:
                self.say(footer)
            self.say()
        else:
            self.say(answer_text(answer))
            self.say()

    def save(self, question: str, answer) -> None:
        if self.conversations is None:
            return
        if self.conversation_id is None:
            self.conversation_id = self.conversations.create(self.owner, self.collection).id
        self.conversations.add_turn(self.conversation_id, self.owner, question, answer)

    def run(self, lines: Iterable[str]) -> int:
        """Answer each line; return 1 when some question failed (a pipe's caller can tell), else 0."""
        if self.interactive:
            self.say("Ask a question in French, English, Vietnamese or Chinese. /help for commands.")
        for raw in lines:
            line = raw.strip()
            if not line:
                continue
            if line.startswith("/"):
                if not self.command(line):
                    break
                continue
            self.ask(line)
        return 1 if self.failures else 0


def prompt_lines(prompt: str = "› ") -> Iterable[str]:
    """Lines typed at a prompt (line editing and history from readline) until Ctrl-D."""
    try:
        import readline  # noqa: F401  (arrow keys and history for input())
    except ImportError:  # pragma: no cover - not on every platform
        pass
    while True:
        try:
            yield input(prompt)
        except EOFError:
            print()
            return
        except KeyboardInterrupt:
            print()
            return
