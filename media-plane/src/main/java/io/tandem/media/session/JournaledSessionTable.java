package io.tandem.media.session;

import java.nio.charset.StandardCharsets;
import java.util.List;

import io.tandem.journal.JournalNode;

/**
 * The sessions table of a node in an HA pair: every write goes to the local table (Chronicle Map, so a restart
 * finds it) and, while this node is active, into the state journal to its mirror. A mirror's writes are the
 * journal's own, applied to the local table only. Journaling returns at once: the journal's thread sends.
 */
public final class JournaledSessionTable implements SessionTable
{
    /** The journal's table id of the calls. */
    public static final int CALLS = 1;

    private final SessionTable local;
    private final JournalNode journal;

    public JournaledSessionTable(final SessionTable local, final JournalNode journal)
    {
        this.local = local;
        this.journal = journal;
    }

    @Override
    public void put(final String callId, final byte[] record)
    {
        local.put(callId, record);
        journal.put(CALLS, callId.getBytes(StandardCharsets.UTF_8), record);
    }

    @Override
    public byte[] get(final String callId)
    {
        return local.get(callId);
    }

    @Override
    public void remove(final String callId)
    {
        local.remove(callId);
        journal.remove(CALLS, callId.getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public int size()
    {
        return local.size();
    }

    @Override
    public List<StoredCall> calls()
    {
        return local.calls();
    }

    /** A call kept aside leaves the journal too: the mirror keeps nothing this node cannot relay. */
    @Override
    public void setAside(final String callId, final String reason, final byte[] record)
    {
        local.setAside(callId, reason, record);
        journal.remove(CALLS, callId.getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public List<Aside> asideCalls()
    {
        return local.asideCalls();
    }

    @Override
    public void takeBack(final String callId, final byte[] record)
    {
        local.takeBack(callId, record);
        journal.put(CALLS, callId.getBytes(StandardCharsets.UTF_8), record);
    }

    @Override
    public void dropAside(final String callId)
    {
        local.dropAside(callId);
    }

    @Override
    public void close()
    {
        local.close();
    }
}
