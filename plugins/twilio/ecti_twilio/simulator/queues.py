"""Call queues: <Enqueue> members, <Dial><Queue> and REST dequeueing (mixed into Simulator)."""
from __future__ import annotations

from typing import Optional

from .interpreter import Event
from .models import Call, Queue, QueueMember, new_sid


class QueueMixin:
    """Queue bookkeeping; the waiting itself is in :class:`~.interpreter.CallProgram`."""

    def find_queue(self, account_sid: str, name: str) -> Optional[Queue]:
        with self.lock:
            return next((q for q in self.queues.values()
                         if q.account_sid == account_sid and q.friendly_name == name), None)

    def get_or_create_queue(self, account_sid: str, name: str, max_size: int = 1000) -> Queue:
        with self.lock:
            queue = self.find_queue(account_sid, name)
            if queue is None:
                now = self.clock.now()
                queue = Queue(new_sid("QU"), account_sid, name, now, now, max_size=max_size)
                self.queues[queue.sid] = queue
            return queue

    def enqueue(self, call: Call, queue: Queue) -> QueueMember:
        with self.lock:
            member = QueueMember(call, queue, self.clock.now(), self.clock.seconds)
            queue.members.append(member)
            queue.date_updated = self.clock.now()
            call.queue_member = member
        self.note(call, "enqueued", queue=queue.friendly_name)
        if queue.dequeuers:
            self.deliver(queue.dequeuers.pop(0), Event("member"))
        return member

    def take_front_member(self, queue: Queue) -> Optional[QueueMember]:
        """Remove the longest-waiting caller from the queue (being bridged)."""
        with self.lock:
            while queue.members:
                member = queue.members.pop(0)
                if member.call.ended:
                    continue
                member.left_at = self.clock.seconds
                queue.wait_times.append(member.left_at - member.enqueued_at)
                return member
        return None

    def leave_queue(self, member: QueueMember) -> None:
        with self.lock:
            if member in member.queue.members:
                member.queue.members.remove(member)
                member.left_at = self.clock.seconds
                member.queue.wait_times.append(member.left_at - member.enqueued_at)
            if member.call.queue_member is member:
                member.call.queue_member = None
