package io.tandem.media.session;

import java.util.List;

import io.tandem.media.stats.MediaCounters;

/**
 * Writes call records to the sessions table for the registry (under its lock). The table is sized for
 * {@code --max-calls} records of average size; records far larger (long Call-IDs, many streams) can fill it first.
 * A new call whose record does not fit is refused before it goes live, its sockets and ports given back; a change
 * to a live call that does not fit is relayed but not saved. Either is a clear error and counted, never an
 * "Internal error" and never a call that relays without a record.
 */
final class RecordWriter
{
    private final SessionTable store;
    private final MediaCounters counters;
    private final StreamSockets sockets;

    RecordWriter(final SessionTable store, final MediaCounters counters, final StreamSockets sockets)
    {
        this.store = store;
        this.counters = counters;
        this.sockets = sockets;
    }

    /** Save a live call's record after a change. */
    void save(final Call call) throws MediaException
    {
        final String full = put(call);
        if (full != null)
        {
            throw new MediaException("Sessions file full: the call's change is relayed but not saved (" + full +
                "); raise --max-calls");
        }
    }

    /** Save a new call's record before it goes live; if the table cannot hold it, close its unpublished streams. */
    void saveNew(final Call call, final List<MediaStream> added) throws MediaException
    {
        final String full = put(call);
        if (full != null)
        {
            sockets.closeUnpublished(added);
            throw new MediaException("Sessions file full: call refused (" + full + "); raise --max-calls");
        }
    }

    /** @return null once written, or why the table could not hold the record (counted) */
    private String put(final Call call)
    {
        try
        {
            store.put(call.callId, CallRecord.of(call).encode());
            return null;
        }
        catch (final IllegalStateException | IllegalArgumentException ex)
        {
            counters.sessionsFileFull.increment();
            return ex.getMessage();
        }
    }
}
