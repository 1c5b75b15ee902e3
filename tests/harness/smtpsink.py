"""
smtpsink.py — a tiny SMTP server on loopback that keeps every message it is sent, for tests of
mail that depot sends (Python 3 standard library only: smtpd is gone since 3.12, and aiosmtpd is
not something we may fetch).

    sink = SmtpSink().start()        # 127.0.0.1, an ephemeral port: sink.port
    ... depot serve --smtp-url smtp://127.0.0.1:%d ...
    msg = sink.wait_for(lambda m: "bob@example.com" in m.rcpt, timeout=10)
    msg.subject, msg.body, msg.mail_from, msg.rcpt, msg.raw
    sink.stop()

It speaks enough of RFC 5321 for libcurl: EHLO/HELO, MAIL FROM, RCPT TO, DATA (with dot
unstuffing), RSET, NOOP, QUIT. It offers no STARTTLS and no AUTH. Lines and messages are capped.
"""

import asyncio
import email
import email.policy
import threading
import time

MAX_LINE = 4096
MAX_MESSAGE = 1 << 20


class Message:
    def __init__(self, mail_from, rcpt, raw):
        self.mail_from = mail_from
        self.rcpt = list(rcpt)
        self.raw = raw
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        self.headers = parsed
        self.subject = str(parsed.get("Subject", ""))
        body = parsed.get_body(preferencelist=("plain",))
        self.body = body.get_content() if body is not None else ""

    def __repr__(self):
        return "<Message from=%s to=%s subject=%r>" % (self.mail_from, self.rcpt, self.subject)


class SmtpSink:
    def __init__(self, host="127.0.0.1"):
        self.host = host
        self.port = None
        self.messages = []
        self._cond = threading.Condition()
        self._loop = None
        self._server = None
        self._thread = None

    # ---- the protocol ----

    async def _session(self, reader, writer):
        async def say(line):
            writer.write((line + "\r\n").encode())
            await writer.drain()

        mail_from, rcpt = None, []
        await say("220 smtpsink ready")
        try:
            while True:
                line = await reader.readline()
                if not line or len(line) > MAX_LINE:
                    break
                cmd = line.decode("utf-8", "replace").rstrip("\r\n")
                verb = cmd.split(" ", 1)[0].upper()
                arg = cmd[len(verb):].strip()
                if verb == "EHLO":
                    writer.write(b"250-smtpsink\r\n250-8BITMIME\r\n250 SIZE %d\r\n" % MAX_MESSAGE)
                    await writer.drain()
                elif verb == "HELO":
                    await say("250 smtpsink")
                elif verb == "MAIL" and arg.upper().startswith("FROM:"):
                    mail_from, rcpt = arg[5:].split(" ")[0].strip("<>"), []
                    await say("250 OK")
                elif verb == "RCPT" and arg.upper().startswith("TO:"):
                    if mail_from is None:
                        await say("503 MAIL first")
                        continue
                    rcpt.append(arg[3:].split(" ")[0].strip("<>"))
                    await say("250 OK")
                elif verb == "DATA":
                    if not rcpt:
                        await say("503 RCPT first")
                        continue
                    await say("354 end with <CRLF>.<CRLF>")
                    data = bytearray()
                    while True:
                        dl = await reader.readline()
                        if not dl:
                            return
                        if dl in (b".\r\n", b".\n"):
                            break
                        if dl.startswith(b"."):
                            dl = dl[1:]  # dot unstuffing
                        data += dl
                        if len(data) > MAX_MESSAGE:
                            await say("552 too big")
                            return
                    with self._cond:
                        self.messages.append(Message(mail_from, rcpt, bytes(data)))
                        self._cond.notify_all()
                    mail_from, rcpt = None, []
                    await say("250 OK queued")
                elif verb == "RSET":
                    mail_from, rcpt = None, []
                    await say("250 OK")
                elif verb == "NOOP":
                    await say("250 OK")
                elif verb == "QUIT":
                    await say("221 bye")
                    break
                else:
                    await say("502 not implemented")
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    # ---- life cycle ----

    def start(self):
        ready = threading.Event()

        def run():
            self._loop = asyncio.new_event_loop()
            asyncio.set_event_loop(self._loop)
            self._server = self._loop.run_until_complete(
                asyncio.start_server(self._session, self.host, 0))
            self.port = self._server.sockets[0].getsockname()[1]
            ready.set()
            self._loop.run_forever()
            self._server.close()
            self._loop.run_until_complete(self._server.wait_closed())
            self._loop.close()

        self._thread = threading.Thread(target=run, name="smtpsink", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("the SMTP sink did not start")
        return self

    def stop(self):
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
            self._loop = None

    def wait_for(self, pred=lambda m: True, timeout=10.0):
        """The first message (oldest first) for which pred is true, waiting up to timeout; None."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for m in self.messages:
                    if pred(m):
                        return m
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._cond.wait(left)

    def clear(self):
        with self._cond:
            self.messages.clear()
