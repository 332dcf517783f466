"""What every figure means, from which rows and events (the help page and docs/reports.md)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Definition:
    name_ja: str
    name_en: str
    ja: str
    en: str
    #: Where the figure comes from (tables, columns, events), for integrators; shown as code.
    source: str = ""


QUEUE = (
    Definition("着信数 (オファー)", "Offered",
               "期間内にキューに入った通話。1 通話が 2 つのキューに入れば各キューで 1 件。",
               "Calls that entered the queue in the period. A call that visits two queues counts in each.", source="QueueEntry.entered_at; entered_queue"),
    Definition("応答数", "Answered",
               "エージェントにつながった通話。",
               "Calls connected to an agent.", source="connected; QueueEntry.connected_at"),
    Definition("放棄数", "Abandoned",
               "応答前に発信者が切った通話。通信事業者の通知が届かず、照合で終了を確認した通話、すべての発信にお客様が応答しなかったコールバックも含む。",
               "Calls whose caller hung up before an answer, including calls found ended when the carrier's report was lost, and queued callbacks whose customer answered none of the attempts.", source="abandoned; outcome lost; outcome callback_failed"),
    Definition("短時間放棄", "Short abandons",
               "放棄のうち待ち時間 5 秒以内のもの (放棄数にも含む)。",
               "Abandons within 5 seconds of entering the queue (also counted as abandoned)."),
    Definition("放棄率", "Abandonment rate", "放棄数 ÷ 着信数。", "Abandoned / offered."),
    Definition("しきい値内応答数", "Answered within threshold",
               "待ち時間 (キューに入ってから応答まで) がキューのサービスレベルしきい値 (秒) 以下の応答。",
               "Answered calls whose wait (from entering the queue to the answer) is at most the queue's service-level threshold (seconds).", source="QueueEntry.entered_at → connected_at"),
    Definition("サービスレベル (待ち中を含む)", "Service level, waiting callers included",
               "しきい値内応答数 ÷ (応答数 + しきい値を超えて応答されなかった通話)。しきい値を超えてまだ待っている通話、しきい値の後に放棄・オーバーフロー・タイムアウトした通話は未達として数えます。しきい値内に応答されずにキューを出た通話はどちらにも数えません。ウォールボードの「本日のサービスレベル」はこの定義です。",
               "Answered within the threshold / (answered + calls not answered after waiting past the threshold). Callers still waiting past the threshold, and calls that abandoned, overflowed or timed out after it, count as missed; calls that left unanswered within the threshold count neither way. The wallboard's service level today uses this definition."),
    Definition("サービスレベル (応答基準)", "Service level, answered-based",
               "しきい値内応答数 ÷ 応答数 (Asterisk の定義)。",
               "Answered within the threshold / answered (Asterisk's definition)."),
    Definition("サービスレベル (着信基準)", "Service level, offered-based",
               "しきい値内にキューを出た通話 (応答または放棄) ÷ 着信数 (Amazon Connect の定義)。",
               "Calls that left the queue (answered or abandoned) within the threshold / offered (Amazon Connect's definition)."),
    Definition("平均応答速度 (ASA)", "Average speed of answer (ASA)",
               "応答した通話の待ち時間の平均。", "Mean wait of the answered calls."),
    Definition("平均待ち時間・最長待ち時間", "Average and longest wait",
               "待ちが終わった通話 (応答またはキューを出た通話) の待ち時間 (キューに入ってから応答、またはキューを出るまで) の平均と最大。",
               "Mean and maximum wait (from entering the queue to the answer, else to leaving it) of the calls whose wait is over.", source="QueueEntry.entered_at → connected_at | ended_at"),
    Definition("平均放棄時間", "Average time to abandon", "放棄した通話の待ち時間の平均。", "Mean wait of the abandoned calls."),
    Definition("オーバーフロー数", "Overflowed",
               "応答前にオーバーフロー先へ送られた通話: キュー満杯・エージェント不在、全員ログアウト、別のキューへ移動。",
               "Calls sent on before an answer: queue full or no agent, last agent logged out, moved to another queue.", source="overflowed; exit_empty; transferred"),
    Definition("タイムアウト数", "Timed out",
               "最大待ち時間を超えてオーバーフロー先へ送られた通話。",
               "Calls that waited the maximum and went to the overflow.", source="timed_out"),
    Definition("処理中", "In progress", "まだ待っている通話。", "Calls still waiting."),
    Definition("留守番電話", "Voicemails",
               "応答されず、キューに入った後に留守番電話メッセージを残した通話。",
               "Unanswered calls that left a voicemail message after entering the queue.", source="voicemail"),
    Definition("コールバック予約数・発信数・応答数", "Callbacks requested, made and reached",
               "待ち中にキーを押して折り返しを予約した通話、お客様への発信 (再発信を含む全発信)、お客様が応答したコールバック。予約した通話は順番を保ったままキューに残り、着信数に 1 回だけ数えます。",
               "Calls whose caller pressed the key to be called back while waiting, the calls placed to customers (every attempt, retries included), and the callbacks the customer answered. A callback keeps its place in the queue and counts once among the offered calls.",
               source="callback_requested; callback_dialed; callback_reached"),
    Definition("合計の検算", "Totals reconcile",
               "着信数 = 応答数 + 放棄数 + オーバーフロー数 + タイムアウト数 + 処理中。",
               "Offered = answered + abandoned + overflowed + timed out + in progress."),
)

AGENT = (
    Definition("受信処理数", "Inbound calls handled",
               "期間内に鳴った呼び出しのうちエージェントが応答したもの (転送で受けた通話を含む)。",
               "Rings in the period that the agent answered, warm transfers received included.", source="Offer"),
    Definition("発信数", "Outbound calls", "エージェントが発信した通話。", "Calls the agent placed.", source="Call.direction = outbound"),
    Definition("通話時間", "Talk time",
               "受信: 応答から終了または引き継ぎまでの時間から保留時間を除いた時間。発信: 相手の応答から終了まで。",
               "Inbound: from answering to the end or hand-over, minus hold. Outbound: from the callee's answer to the end.", source="Offer.accepted_at → ended_at"),
    Definition("保留時間", "Hold time",
               "エージェントの通話の保留の合計。",
               "Total hold of the agent's calls.", source="held / resumed; QueueEntry.hold_seconds"),
    Definition("後処理時間", "After-call work time",
               "状態履歴の「後処理」(自動) と「後処理」(手動) の時間。",
               "Time in the wrap-up (automatic) and after-call work (manual) statuses of the status history.", source="AgentStatusChange"),
    Definition("平均処理時間 (AHT)", "Average handle time (AHT)",
               "(通話時間 + 保留時間 + 後処理時間) ÷ 処理数 (受信 + 発信)。",
               "(Talk + hold + after-call work) / calls handled (inbound + outbound)."),
    Definition("不応答", "Missed offers",
               "鳴ったが出なかった呼び出しと拒否した呼び出し。",
               "Rings the agent let ring out or declined.", source="no_answer; declined"),
    Definition("状態別時間", "Time in each status",
               "状態の変更ごとに、次の変更まで (期間の終わりまたは現在まで) その状態にいた時間。期間開始時の状態も含む (初めてログインする前はオフライン)。",
               "Each status change lasts until the next one (or the end of the period, or now); the status held when the period began counts too (offline before an agent's first sign-in)."),
    Definition("稼働率", "Occupancy",
               "(呼出中 + 通話中 + 後処理) ÷ (呼出中 + 通話中 + 後処理 + 待機中)。",
               "(Ringing + on a call + wrap-up + after-call work) / (the same + available)."),
)

CENTER = (
    Definition("着信・発信", "Inbound and outbound calls",
               "期間内に始まった通話の方向別の数と応答数。", "Calls started in the period by direction, and how many were answered.", source="Call.started_at"),
    Definition("時間外着信", "After-hours calls",
               "営業時間ノードが「時間外」に分岐した着信。",
               "Inbound calls a business-hours node sent to “outside business hours”.", source="flow_step: type = schedule, branch = closed"),
    Definition("休日着信", "Holiday calls",
               "営業時間ノードが祝日・会社の休業日と判断した着信。",
               "Inbound calls a business-hours node found on a holiday or a company closure.", source="flow_step: branch = holiday | reason = holiday, closure"),
    Definition("IVR 放棄", "IVR abandonment",
               "メニューのボタン入力を待つ間に切れた着信 (キューにも留守番電話にも入っていない) ÷ IVR を通った着信。",
               "Inbound calls that ended while a menu waited for a key (never queued, no voicemail) / inbound calls that went through the IVR.", source="last flow_step: menu prompt | invalid | no_input"),
    Definition("番号別", "By number", "着信は着信番号、発信は発信者番号ごと。", "Inbound by the number called, outbound by the caller ID used."),
    Definition("時間帯・曜日別", "By hour and weekday",
               "会社のタイムゾーンでの開始時刻の時・曜日ごとの通話数。", "Calls by the hour and weekday they started in the company's time zone."),
    Definition("ウォールボード", "Wallboard",
               "キューごとの待ち呼数と最長待ち時間 (今待っている通話)、本日の応答数・放棄数・サービスレベル (待ち中を含む)、状態別のオペレーターと各状態の経過時間。5 秒ごとに更新し、待ち時間と経過時間は毎秒進みます。色は管理者がキューごとに設定したしきい値で黄・赤に変わります。",
               "Calls waiting in each queue and the oldest one's wait (now), today's answered and abandoned calls and service level (waiting callers included), agents by status with the time in their status. Refreshed every 5 seconds; waits and times tick every second. Colours turn amber and red at the thresholds the admin set on each queue."),
)

SECTIONS = (("queues", QUEUE), ("agents", AGENT), ("center", CENTER))
