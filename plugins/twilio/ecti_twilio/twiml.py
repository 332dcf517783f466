"""Render ECTI's carrier-neutral instructions as TwiML, with the twilio SDK's builders only."""
from __future__ import annotations

from typing import Callable, Iterable
from urllib.parse import urlencode

from twilio.twiml.voice_response import Dial, Gather, VoiceResponse

from ecti.voice import instructions as ins

from .tts import prosody_attributes

#: The voice of a Say that names none; the Japanese voices on offer are ``tts.VOICES``.
DEFAULT_VOICES = {"ja-JP": "Polly.Mizuki", "en-US": "Polly.Joanna"}


class TwiMLRenderer:
    """Turns instructions into a ``VoiceResponse``; ``url_for(continuation)`` gives callback URLs."""

    def __init__(self, url_for: Callable[[ins.Continuation], str]):
        self.url_for = url_for

    def render(self, instructions: Iterable) -> str:
        response = VoiceResponse()
        for instruction in instructions:
            self._add(response, instruction)
        return str(response)

    def _add(self, parent, item) -> None:
        method = getattr(self, "_" + type(item).__name__.lower(), None)
        if method is None:
            raise TypeError(f"no TwiML for {type(item).__name__}")
        method(parent, item)

    def _say(self, parent, item: ins.Say) -> None:
        voice = item.voice or DEFAULT_VOICES.get(item.language, "Polly.Mizuki")
        loop = item.loop if item.loop != 1 else None
        prosody = prosody_attributes(voice, item.settings)
        if not prosody:
            parent.say(item.text, voice=voice, language=item.language, loop=loop)
            return
        # Speed, pitch, volume and emotion as SSML: <Say><prosody rate=… pitch=… volume=…>text</prosody></Say>
        say = parent.say(voice=voice, language=item.language, loop=loop)
        say.prosody(item.text, **prosody)

    def _play(self, parent, item: ins.Play) -> None:
        parent.play(item.url, loop=item.loop if item.loop != 1 else None)

    def _pause(self, parent, item: ins.Pause) -> None:
        parent.pause(length=item.seconds)

    def _gather(self, parent, item: ins.Gather) -> None:
        gather = Gather(
            input="dtmf",
            action=self.url_for(item.next),
            method="POST",
            timeout=item.timeout,
            num_digits=item.num_digits,
            finish_on_key=item.finish_on_key,
            action_on_empty_result=True,
        )
        for prompt in item.prompts:
            self._add(gather, prompt)
        parent.append(gather)

    def _record(self, parent, item: ins.Record) -> None:
        parent.record(
            action=self.url_for(item.next),
            method="POST",
            max_length=item.max_length,
            timeout=item.timeout,
            finish_on_key=item.finish_on_key,
            play_beep=item.play_beep,
            recording_status_callback=self.url_for(item.status) if item.status else None,
            recording_status_callback_event="completed absent" if item.status else None,
        )

    def _dial(self, parent, item: ins.Dial) -> None:
        dial = Dial(
            action=self.url_for(item.next) if item.next else None,
            method="POST" if item.next else None,
            timeout=item.timeout,
            caller_id=item.caller_id,
            answer_on_bridge=item.answer_on_bridge,
            record="record-from-answer-dual" if item.record else None,
            recording_status_callback=self.url_for(item.recording_status) if item.recording_status else None,
            # "in-progress" too: ECTI stops a recording that reaches an hour (F-REC-1)
            recording_status_callback_event="in-progress completed absent" if item.recording_status else None,
        )
        for target in item.targets:
            if target.kind == "number":
                dial.number(target.address)
            elif target.kind == "client":
                client = dial.client()
                client.identity(target.address)
                for name, value in target.parameters.items():
                    client.parameter(name=name, value=value)
            elif target.kind == "sip":
                dial.sip(target.address)
            else:
                raise ValueError(f"unknown dial target kind {target.kind}")
        parent.append(dial)

    def _conference(self, parent, item: ins.Conference) -> None:
        dial = Dial(action=self.url_for(item.next) if item.next else None, method="POST" if item.next else None)
        dial.conference(
            item.name,
            start_conference_on_enter=item.start_on_enter,
            end_conference_on_exit=item.end_on_exit,
            beep=item.beep,
            wait_url=self.url_for(item.wait) if item.wait else None,
            wait_method="POST" if item.wait else None,
            status_callback=self.url_for(item.events) if item.events else None,
            status_callback_event="start end join leave hold" if item.events else None,
            record="record-from-start" if item.record else None,
            recording_status_callback=self.url_for(item.recording_status) if item.recording_status else None,
            recording_status_callback_event="in-progress completed absent" if item.recording_status else None,
        )
        parent.append(dial)

    def _enqueue(self, parent, item: ins.Enqueue) -> None:
        parent.enqueue(item.queue, action=self.url_for(item.next), method="POST", wait_url=self.url_for(item.wait), wait_url_method="POST")

    def _redirect(self, parent, item: ins.Redirect) -> None:
        parent.redirect(self.url_for(item.next), method="POST")

    def _hangup(self, parent, item: ins.Hangup) -> None:
        parent.hangup()

    def _reject(self, parent, item: ins.Reject) -> None:
        parent.reject(reason=item.reason)


def continuation_query(continuation: ins.Continuation) -> str:
    return urlencode(sorted(continuation.args.items()))
