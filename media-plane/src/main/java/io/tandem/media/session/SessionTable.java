package io.tandem.media.session;

import java.util.List;

/**
 * Where the call registry persists its calls: call-id to an encoded {@link CallRecord}. {@link SessionStore} (a
 * Chronicle Map file) is the table of a single node; the state journal's replicated table is the next. Written by
 * the registry's command thread only. Records a start cannot restore are moved aside, never deleted.
 */
public interface SessionTable extends AutoCloseable
{
    /** One call as stored: its id and its own copy of the encoded record. */
    record StoredCall(String callId, byte[] record)
    {
    }

    /** One call kept aside: its id, why, and its record as it was stored. */
    record Aside(String callId, String reason, byte[] record)
    {
    }

    void put(String callId, byte[] record);

    /** The encoded record of a call (a copy the caller may keep), or null. */
    byte[] get(String callId);

    void remove(String callId);

    int size();

    /** Every call in the table, each record a copy the caller may keep. */
    List<StoredCall> calls();

    /** Move a call that cannot be restored out of the table, keeping its record aside with the reason. */
    void setAside(String callId, String reason, byte[] record);

    /** The calls kept aside by this and earlier starts. */
    List<Aside> asideCalls();

    /** A call kept aside has been restored: back into the table, then out of the aside store. */
    void takeBack(String callId, byte[] record);

    /** Forget a call kept aside whose record the table holds again, identical. */
    void dropAside(String callId);

    @Override
    void close();
}
