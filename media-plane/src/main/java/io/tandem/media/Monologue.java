package io.tandem.media;

import java.util.ArrayList;
import java.util.List;

/** One party of a call, identified by its SIP tag; its streams are the sockets Tandem offers to that party. */
public final class Monologue
{
    final String tag;
    final List<MediaStream> streams = new ArrayList<>();
    Monologue subscriber;

    Monologue(final String tag)
    {
        this.tag = tag;
    }

    public String tag()
    {
        return tag;
    }

    public List<MediaStream> streams()
    {
        return streams;
    }
}
