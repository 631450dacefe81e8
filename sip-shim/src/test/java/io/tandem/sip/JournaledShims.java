package io.tandem.sip;

import java.nio.file.Path;
import java.util.List;

import io.tandem.journal.JournalContext;

/** An HA pair of shims in one test JVM: each node's call info journaled to the other, its epoch file in the test's directory. */
final class JournaledShims
{
    private JournaledShims()
    {
    }

    /** Node {@code name}'s journal: its endpoint, its peer's, the shims' cluster id, its starting role. */
    static JournalContext journal(final Path dir, final String name, final String listen, final String peer,
        final boolean active)
    {
        return new JournalContext().listen(listen).peer(peer).clusterId(2).startActive(active)
            .epochFile(dir.resolve(name + ".epoch").toFile());
    }

    /** A shim on 127.0.0.1:{@code sipPort} with journaled call info; it and its call info go on {@code closing}. */
    static SipShim shim(final Path dir, final List<AutoCloseable> closing, final String name, final int sipPort,
        final String listen, final String peer, final boolean active) throws Exception
    {
        final CallInfoStore calls = new CallInfoStore(journal(dir, name, listen, peer, active), System::currentTimeMillis);
        closing.add(calls);
        final SipShim shim = new SipShim(new SipContext().listen("127.0.0.1:" + sipPort).route("127.0.0.1:25390")
            .conclude(), calls);
        closing.add(shim);
        return shim;
    }
}
