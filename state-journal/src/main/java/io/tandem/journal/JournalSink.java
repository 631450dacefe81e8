package io.tandem.journal;

/**
 * Where a mirror applies what the journal carries, on the journal's thread. Every call is idempotent for the
 * sink: a put of a value it already holds changes nothing. A snapshot is a run of puts; the node itself works out
 * which keys the snapshot no longer has and removes them through {@link #onRemove}.
 */
public interface JournalSink
{
    void onPut(int table, byte[] key, byte[] value);

    void onRemove(int table, byte[] key);

    /** This node's role changed (promote, demote, or fenced by a peer with a higher epoch). */
    default void onRoleChange(final JournalNode.Role role, final long epoch)
    {
    }
}
