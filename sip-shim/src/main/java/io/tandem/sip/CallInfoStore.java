package io.tandem.sip;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import java.util.function.UnaryOperator;

import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.status.AtomicCounter;
import org.agrona.concurrent.status.CountersManager;
import org.agrona.concurrent.status.CountersReader;

import io.tandem.journal.JournalContext;
import io.tandem.journal.JournalNode;
import io.tandem.journal.JournalSink;

/**
 * The shim's call info, one {@link CallInfo} per Call-ID, the talk's {@code MyDlg} htable. With a journal peer it
 * is a replicated table: while this node is active each change is journaled to the peer; while it is standby it
 * holds what the peer journals (a snapshot when it joins, then every change), so after the virtual IP moves here
 * it knows where each call's INVITE went and which media node has the call. Calls that never end are forgotten at
 * their record's expiry time, on both nodes.
 */
final class CallInfoStore implements JournalSink, AutoCloseable
{
    /** The journal's table id of the shim's calls (the media plane's calls are table 1). */
    static final int SIP_CALLS = 2;

    private final Map<String, CallInfo> calls = new ConcurrentHashMap<>();
    private final LongSupplier wallClockMs;
    private final JournalNode journal;
    private final ScheduledExecutorService sweeper;
    private final AtomicLong refused = new AtomicLong();
    private final AtomicLong expired = new AtomicLong();
    private final AtomicLong unrecorded = new AtomicLong();
    /** The journal's counters by metric name, with what /metrics says of them. */
    private final Map<String, JournalMetric> counters = new LinkedHashMap<>();

    /** One of the journal's counters, as /metrics shows it. */
    record JournalMetric(String name, AtomicCounter counter, boolean gauge, String help)
    {
    }

    /** Call info on this node only (no HA peer). */
    static CallInfoStore local()
    {
        return new CallInfoStore(null, System::currentTimeMillis);
    }

    /**
     * @param journal the journal to the peer (concluded here), or null for a node of its own
     * @param wallClockMs the clock expiry times are read against (milliseconds since the epoch, as on the peer)
     */
    CallInfoStore(final JournalContext journal, final LongSupplier wallClockMs)
    {
        this.wallClockMs = wallClockMs;
        if (journal == null)
        {
            this.journal = null;
        }
        else
        {
            final CountersManager manager = new CountersManager(
                new UnsafeBuffer(ByteBuffer.allocateDirect(32 * CountersReader.METADATA_LENGTH)),
                new UnsafeBuffer(ByteBuffer.allocateDirect(32 * CountersReader.COUNTER_LENGTH)));
            this.journal = new JournalNode(journal, this, (label, metric, gauge, help) ->
            {
                final AtomicCounter counter = manager.newCounter(label);
                counters.put(metric, new JournalMetric(metric, counter, gauge, help));
                return counter;
            }).start();
        }
        sweeper = Executors.newSingleThreadScheduledExecutor((task) ->
        {
            final Thread thread = new Thread(task, "tandem-sip-expiry");
            thread.setDaemon(true);
            return thread;
        });
        sweeper.scheduleWithFixedDelay(this::expire, 5, 5, TimeUnit.SECONDS);
    }

    long now()
    {
        return wallClockMs.getAsLong();
    }

    CallInfo get(final String callId)
    {
        return calls.get(callId);
    }

    int size()
    {
        return calls.size();
    }

    /** The Call-IDs held now. */
    Set<String> callIds()
    {
        return Set.copyOf(calls.keySet());
    }

    /**
     * Keep (and, while active, journal) a call's info. One that its record cannot hold (a field over
     * {@link CallInfo#MAX_FIELD} bytes, a hostile Call-ID say) is kept nowhere and counted: the call goes on as one
     * this node knows nothing of, and the two nodes never disagree about it.
     */
    void put(final CallInfo info)
    {
        final byte[] record;
        try
        {
            record = info.encode();
        }
        catch (final IllegalArgumentException ex)
        {
            unrecorded.incrementAndGet();
            if (calls.remove(info.callId()) != null && journal != null)
            {
                journal.remove(SIP_CALLS, key(info.callId())); // an earlier state of it (a long to-tag now): gone too
            }
            return;
        }
        calls.put(info.callId(), info);
        if (journal != null)
        {
            journal.put(SIP_CALLS, key(info.callId()), record);
        }
    }

    /** Calls whose info a record cannot hold (kept nowhere). */
    long unrecorded()
    {
        return unrecorded.get();
    }

    /** Change a call's state and expiry (and its to-tag, when given); nothing if the call is unknown here. */
    void update(final String callId, final CallInfo.State state, final String toTag, final long expiresAtMs)
    {
        change(callId, (info) -> info.with(state, toTag, expiresAtMs));
    }

    /** The call's INVITE went on to another destination (an alternate of its rule); nothing if the call is unknown. */
    void redirect(final String callId, final String destination, final int attempt)
    {
        change(callId, (info) -> info.redirected(destination, attempt));
    }

    private void change(final String callId, final UnaryOperator<CallInfo> change)
    {
        final CallInfo info = calls.get(callId);
        if (info != null)
        {
            put(change.apply(info));
        }
    }

    /** Forget the calls whose time is up. @return how many */
    int expire()
    {
        final long now = now();
        int count = 0;
        for (final CallInfo info : calls.values())
        {
            if (info.expiresAtMs() <= now && calls.remove(info.callId(), info))
            {
                if (journal != null)
                {
                    journal.remove(SIP_CALLS, key(info.callId()));
                }
                count++;
            }
        }
        expired.addAndGet(count);
        return count;
    }

    /** Calls forgotten because their time was up. */
    long expired()
    {
        return expired.get();
    }

    /** Journaled records this node could not read (counted, dropped). */
    long refused()
    {
        return refused.get();
    }

    /** Whether this node writes the table (no peer, or the active of the pair). */
    boolean active()
    {
        return journal == null || journal.role() == JournalNode.Role.ACTIVE;
    }

    /** Whether a standby holds everything its peer has journaled so far (always true for the active). */
    boolean inSync()
    {
        return journal == null || journal.isInSync();
    }

    /** The journal's counter of this metric name ({@code tandem_journal_...}), or -1 without one. */
    long journalCounter(final String metric)
    {
        final JournalMetric counter = counters.get(metric);
        return counter == null ? -1 : counter.counter().get();
    }

    /** The journal's counters (none without a journal). */
    Collection<JournalMetric> journalMetrics()
    {
        return counters.values();
    }

    /** Become the pair's active: journal from now on (keepalived's notify MASTER). */
    void promote()
    {
        if (journal != null)
        {
            journal.promote();
        }
    }

    /** Become its standby: follow the peer's journal, resynced by snapshot. */
    void demote()
    {
        if (journal != null)
        {
            journal.demote();
        }
    }

    // ---- the journal's thread ----

    @Override
    public void onPut(final int table, final byte[] key, final byte[] value)
    {
        if (table != SIP_CALLS)
        {
            return;
        }
        try
        {
            final CallInfo info = CallInfo.decode(value);
            if (!info.callId().equals(new String(key, StandardCharsets.UTF_8)))
            {
                throw new IllegalArgumentException("key and record name different calls");
            }
            calls.put(info.callId(), info);
        }
        catch (final IllegalArgumentException ex)
        {
            refused.incrementAndGet();
            System.err.println("tandem-sip: journaled call info refused: " + ex.getMessage());
        }
    }

    @Override
    public void onRemove(final int table, final byte[] key)
    {
        if (table == SIP_CALLS)
        {
            calls.remove(new String(key, StandardCharsets.UTF_8));
        }
    }

    private static byte[] key(final String callId)
    {
        return callId.getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public void close()
    {
        sweeper.shutdownNow();
        if (journal != null)
        {
            journal.close();
        }
    }
}
