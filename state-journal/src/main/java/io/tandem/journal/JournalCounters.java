package io.tandem.journal;

import org.agrona.concurrent.status.AtomicCounter;

/** A journal node's counters, made in the host's counters file (and shown in its /metrics). */
final class JournalCounters
{
    final AtomicCounter position;
    final AtomicCounter appliedPosition;
    final AtomicCounter lagRecords;
    final AtomicCounter lagMicros;
    final AtomicCounter snapshotsSent;
    final AtomicCounter snapshotsReceived;
    final AtomicCounter refused;
    final AtomicCounter dropped;
    final AtomicCounter epoch;
    final AtomicCounter active;

    JournalCounters(final CounterFactory factory)
    {
        position = factory.newCounter("journal position", "tandem_journal_position", true,
            "Sequence of the last record this node journaled as active");
        appliedPosition = factory.newCounter("journal applied position", "tandem_journal_applied_position", true,
            "Sequence of the last record this node applied as mirror");
        lagRecords = factory.newCounter("journal mirror lag (records)", "tandem_journal_lag_records", true,
            "Records the mirror is behind the active (as the last heartbeat showed)");
        lagMicros = factory.newCounter("journal mirror lag (us)", "tandem_journal_lag_microseconds", true,
            "Time from the active's write to the mirror's apply of the last record");
        snapshotsSent = factory.newCounter("journal snapshots sent", "tandem_journal_snapshots_sent_total", false,
            "Snapshots this node sent to a mirror");
        snapshotsReceived = factory.newCounter("journal snapshots received", "tandem_journal_snapshots_received_total",
            false, "Snapshots this node applied as mirror");
        refused = factory.newCounter("journal records refused", "tandem_journal_refused_total", false,
            "Journal records refused: corrupt, truncated, from a stranger, another cluster or a lower epoch");
        dropped = factory.newCounter("journal records dropped for a slow mirror", "tandem_journal_dropped_total", false,
            "Records a slow or absent mirror did not take (it resyncs by snapshot)");
        epoch = factory.newCounter("journal epoch", "tandem_journal_epoch", true, "This node's epoch");
        active = factory.newCounter("journal role: 1 active, 0 mirror", "tandem_journal_active", true,
            "1 while this node is the journal's writer");
    }
}
