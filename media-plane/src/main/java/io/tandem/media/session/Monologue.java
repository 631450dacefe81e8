package io.tandem.media.session;

import java.util.ArrayList;
import java.util.List;

/** One party of a call, identified by its SIP tag; its streams are the sockets Tandem offers to that party. */
public final class Monologue
{
    final String tag;
    final List<MediaStream> streams = new ArrayList<>();
    Monologue subscriber;
    final long createdEpochSeconds = System.currentTimeMillis() / 1000;

    Monologue(final String tag)
    {
        this.tag = tag;
    }

    public String tag()
    {
        return tag;
    }

    /** The party this one is in dialogue with, or null. */
    public Monologue subscriber()
    {
        return subscriber;
    }

    public long createdEpochSeconds()
    {
        return createdEpochSeconds;
    }

    public List<MediaStream> streams()
    {
        return streams;
    }
}
