"""Conferences and their participants (mixed into Simulator).

A conference is created (status ``init``) by its first participant, starts when a participant
with ``startConferenceOnEnter`` joins, and ends when the last one leaves, when one with
``endConferenceOnExit`` leaves, or over REST. Status callbacks use the first participant's
``statusCallback`` and ``statusCallbackEvent`` (start, end, join, leave, mute, hold).

Who hears whom (:meth:`ConferenceMixin.hears`) follows Twilio's documented behaviour: a muted
participant hears everyone and is heard by nobody; a participant on hold hears only its hold
music and is heard by nobody; a coaching participant (``coach`` on ``<Conference>``, or
``Coaching``/``CallSidToCoach`` over REST) hears everyone and is heard only by the participant
it coaches.
"""
from __future__ import annotations

from typing import Optional
from urllib.parse import urljoin

from . import twiml
from .interpreter import CallProgram, Event
from .models import DEFAULT_HOLD_MUSIC, Call, Conference, Participant, new_sid, rfc2822


class ConferenceMixin:
    """Conference operations; a participant's waiting is in :class:`~.interpreter.CallProgram`."""

    def active_conference(self, account_sid: str, name: str) -> Optional[Conference]:
        with self.lock:
            return next((c for c in self.conferences.values()
                         if c.account_sid == account_sid and c.friendly_name == name
                         and c.status != "completed"), None)

    def participant(self, conference: Conference, key: str) -> Optional[Participant]:
        """A conference's participant by call SID or label (connected or still being dialled)."""
        with self.lock:
            candidates = list(conference.participants) + [
                p for p in self._pending_participants.values() if p.conference is conference]
            return next((p for p in candidates if p.call.sid == key or p.label == key), None)

    def create_participant(self, conference: Conference, to: str, from_: str, options: dict,
                           *, status_callback: str = "", status_callback_method: str = "POST",
                           status_callback_events: tuple = ("completed",),
                           timeout: int = 60) -> Participant:
        """Participants create: dial ``to`` and put it in the conference when it answers."""
        call = self._new_call(conference.account_sid, from_, to, "outbound-api")
        call.status_callback = status_callback
        call.status_callback_method = status_callback_method
        call.status_callback_events = status_callback_events
        now = self.clock.now()
        participant = Participant(call, conference, now, now, label=options.get("label"),
                                  muted=options.get("muted", False),
                                  coaching=bool(options.get("coach")),
                                  call_sid_to_coach=options.get("coach") or None,
                                  start_conference_on_enter=options.get("start_on_enter", True),
                                  end_conference_on_exit=options.get("end_on_exit", False))
        with self.lock:
            self._pending_participants[call.sid] = participant
        call.on_answer = lambda leg: self.start_program(
            leg, CallProgram(self, leg).run_participant(options))
        self.engine.submit(self._launch_api_call, call, timeout)
        return participant

    def conference_options(self, noun, document) -> dict:
        """Options of a participant from a <Conference> noun's attributes."""
        def url(name):
            value = noun.get(name)
            return urljoin(document.url, value) if value else ""
        return {
            "name": twiml.text_of(noun),
            "muted": twiml.flag(noun, "muted"),
            "coach": noun.get("coach") or None,
            "start_on_enter": twiml.flag(noun, "startConferenceOnEnter", True),
            "end_on_exit": twiml.flag(noun, "endConferenceOnExit"),
            "wait_url": url("waitUrl"),
            "wait_method": (noun.get("waitMethod") or "POST").upper(),
            "label": noun.get("participantLabel"),
            "status_callback": url("statusCallback"),
            "status_callback_method": (noun.get("statusCallbackMethod") or "POST").upper(),
            "status_callback_events": twiml.events(noun.get("statusCallbackEvent"),
                                                   ("start", "end")),
            "record": noun.get("record", ""),
            "recording_status_callback": url("recordingStatusCallback"),
            "recording_status_callback_method":
                (noun.get("recordingStatusCallbackMethod") or "POST").upper(),
            "recording_status_callback_events":
                twiml.events(noun.get("recordingStatusCallbackEvent"), ("completed",)),
        }

    def conference_for(self, account_sid: str, name: str, options: dict) -> Conference:
        """The active conference called ``name``, created (status init) if there is none."""
        with self.lock:
            conference = self.active_conference(account_sid, name)
            if conference is None:
                now = self.clock.now()
                conference = Conference(
                    new_sid("CF"), account_sid, name, now, now,
                    status_callback=options.get("status_callback", ""),
                    status_callback_method=options.get("status_callback_method", "POST"),
                    status_callback_events=options.get("status_callback_events", ()),
                    record=options.get("record", ""),
                    recording_status_callback=options.get("recording_status_callback", ""),
                    recording_status_callback_method=options.get(
                        "recording_status_callback_method", "POST"),
                    recording_status_callback_events=options.get(
                        "recording_status_callback_events", ("completed",)))
                self.conferences[conference.sid] = conference
            return conference

    def join_conference(self, call: Call, options: dict) -> Participant:
        conference = self.conference_for(call.account_sid, options["name"], options)
        now = self.clock.now()
        with self.lock:
            participant = self._pending_participants.pop(call.sid, None) or Participant(
                call, conference, now, now, label=options.get("label"),
                muted=options.get("muted", False),
                coaching=bool(options.get("coach")),
                call_sid_to_coach=options.get("coach") or None,
                start_conference_on_enter=options.get("start_on_enter", True),
                end_conference_on_exit=options.get("end_on_exit", False))
            participant.status = "connected"
            participant.date_updated = now
            conference.participants.append(participant)
            call.participant = participant
        self.note(call, "conference-joined", conference=conference.friendly_name)
        self.conference_event(conference, "participant-join", participant)
        if conference.status == "init":
            if participant.start_conference_on_enter:
                self.start_conference(conference)
            elif options.get("wait_url"):
                self.play_media(call, options["wait_url"], options.get("wait_method", "POST"),
                                playing=lambda: participant.status == "connected"
                                and conference.status == "init")
            else:
                self.hear(call, {"verb": "Play", "url": DEFAULT_HOLD_MUSIC, "loop": 0})
        return participant

    def start_conference(self, conference: Conference) -> None:
        with self.lock:
            conference.status = "in-progress"
            conference.date_updated = self.clock.now()
        self.conference_event(conference, "conference-start")
        if conference.record.startswith("record-from-start"):
            # Twilio records conferences in two channels (the first participant to join on the
            # first, everyone else on the second) and serves them down-mixed unless the media
            # request asks RequestedChannels=2.
            conference.recording = self.start_recording(
                None, "Conference", 2, conference=conference,
                callback=conference.recording_status_callback,
                callback_method=conference.recording_status_callback_method,
                callback_events=conference.recording_status_callback_events)
        for participant in conference.participants:
            self.deliver(participant.call, Event("conference-started"))

    def leave_conference(self, participant: Participant) -> None:
        """A participant leaves (hung up, redirected, kicked); may end the conference."""
        conference = participant.conference
        with self.lock:
            if participant.status != "connected":
                return
            participant.status = "complete"
            participant.date_updated = self.clock.now()
            conference.participants.remove(participant)
            participant.call.participant = None
        self.note(participant.call, "conference-left", conference=conference.friendly_name)
        self.conference_event(conference, "participant-leave", participant)
        if participant.end_conference_on_exit and conference.status == "in-progress":
            self.end_conference(conference, "participant-with-end-conference-on-exit-left",
                                participant.call.sid)
        elif not conference.participants:
            self.end_conference(conference, "last-participant-left", participant.call.sid)

    def remove_participant(self, participant: Participant) -> None:
        """Kick (Participants delete): the leg goes on after its <Dial>, or hangs up."""
        call = participant.call
        if participant.status != "connected":
            self.hangup(call)
            return
        self.leave_conference(participant)
        self.deliver(call, Event("removed"))

    def end_conference(self, conference: Conference, reason: str,
                       call_sid: Optional[str] = None) -> None:
        if conference.status == "completed":
            return
        remaining = list(conference.participants)
        for participant in remaining:
            with self.lock:
                participant.status = "complete"
                conference.participants.remove(participant)
                participant.call.participant = None
            self.conference_event(conference, "participant-leave", participant)
        with self.lock:
            conference.status = "completed"
            conference.reason_ended = reason
            conference.date_updated = self.clock.now()
        if conference.recording is not None:
            self.finish_recording(conference.recording)
        self.conference_event(conference, "conference-end", ReasonConferenceEnded=reason,
                              CallSidEndingConference=call_sid)
        for participant in remaining:
            self.deliver(participant.call, Event("removed"))

    def _leg(self, call) -> Optional[Call]:
        """A Call from a Call, a party's CallHandle or a CallSid."""
        if isinstance(call, str):
            return self.calls.get(call)
        return getattr(call, "_call", call)

    def hears(self, listener, speaker) -> bool:
        """Whether ``listener`` hears ``speaker`` in their conference now (Twilio's rules:
        muted and held participants are not heard, held ones hear nobody, a coach is heard
        only by the participant it coaches)."""
        listener, speaker = self._leg(listener), self._leg(speaker)
        with self.lock:
            a = getattr(listener, "participant", None)
            b = getattr(speaker, "participant", None)
            if a is None or b is None or a is b or a.conference is not b.conference:
                return False
            if a.conference.status != "in-progress":
                return False
            if a.hold or b.hold or b.muted:
                return False
            if b.coaching:
                return b.call_sid_to_coach == a.call.sid
            return True

    def audience(self, speaker) -> list:
        """The calls that hear ``speaker`` now."""
        speaker = self._leg(speaker)
        participant = getattr(speaker, "participant", None)
        if participant is None:
            return []
        return [p.call for p in list(participant.conference.participants)
                if self.hears(p.call, speaker)]

    def update_participant(self, participant: Participant, params: dict) -> None:
        """Participants update: Hold/HoldUrl, Muted, Coaching/CallSidToCoach, AnnounceUrl,
        EndConferenceOnExit."""
        call = participant.call
        if "CallSidToCoach" in params:
            participant.call_sid_to_coach = params["CallSidToCoach"] or None
        if "Coaching" in params:
            participant.coaching = params["Coaching"].lower() == "true"
            if not participant.coaching:
                participant.call_sid_to_coach = None
            self.note(call, "coaching" if participant.coaching else "coaching-ended")
        if "Muted" in params:
            muted = params["Muted"].lower() == "true"
            if muted != participant.muted:
                participant.muted = muted
                self.conference_event(participant.conference, "participant-mute"
                                      if muted else "participant-unmute", participant)
        if "Hold" in params:
            hold = params["Hold"].lower() == "true"
            if hold != participant.hold:
                participant.hold = hold
                self.note(call, "hold" if hold else "unhold")
                self.conference_event(participant.conference, "participant-hold"
                                      if hold else "participant-unhold", participant)
                if hold and params.get("HoldUrl"):
                    self.play_media(call, params["HoldUrl"], params.get("HoldMethod", "GET"),
                                    playing=lambda: participant.status == "connected" and participant.hold)
                elif hold:
                    self.hear(call, {"verb": "Play", "url": DEFAULT_HOLD_MUSIC, "loop": 0})
        if "EndConferenceOnExit" in params:
            participant.end_conference_on_exit = params["EndConferenceOnExit"].lower() == "true"
        if params.get("AnnounceUrl"):
            self.play_media(call, params["AnnounceUrl"], params.get("AnnounceMethod", "POST"))
        participant.date_updated = self.clock.now()

    def conference_event(self, conference: Conference, event: str,
                         participant: Optional[Participant] = None, **extra) -> None:
        """A conference status callback, if the conference asked for this kind of event."""
        short = event.split("-", 1)[1] if event.startswith(("conference-", "participant-")) \
            else event
        short = {"unmute": "mute", "unhold": "hold"}.get(short, short)
        if not conference.status_callback or short not in conference.status_callback_events:
            return
        params = {"AccountSid": conference.account_sid, "ConferenceSid": conference.sid,
                  "FriendlyName": conference.friendly_name, "StatusCallbackEvent": event,
                  "SequenceNumber": conference.sequence_number,
                  "Timestamp": rfc2822(self.clock.now())}
        conference.sequence_number += 1
        if participant is not None:
            params.update({
                "CallSid": participant.call.sid, "Muted": str(participant.muted).lower(),
                "Hold": str(participant.hold).lower(),
                "Coaching": str(participant.coaching).lower(),
                "EndConferenceOnExit": str(participant.end_conference_on_exit).lower(),
                "StartConferenceOnEnter": str(participant.start_conference_on_enter).lower()})
            if participant.label:
                params["ParticipantLabel"] = participant.label
            if participant.coaching and participant.call_sid_to_coach:
                params["CallSidToCoach"] = participant.call_sid_to_coach
        params.update({k: v for k, v in extra.items() if v is not None})
        self.callback(conference.account_sid, "conference-status-callback",
                      conference.status_callback, conference.status_callback_method, params,
                      participant.call.sid if participant else None)
