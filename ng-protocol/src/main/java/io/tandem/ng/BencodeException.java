package io.tandem.ng;

/** Input that is not the bencode Tandem accepts; the message says what and where. */
public final class BencodeException extends NgWireException
{
    private final boolean truncated;

    public BencodeException(final String message)
    {
        this(message, false);
    }

    private BencodeException(final String message, final boolean truncated)
    {
        super(message);
        this.truncated = truncated;
    }

    static BencodeException truncated(final String message)
    {
        return new BencodeException(message, true);
    }

    /** The input ended before the value did: on a stream, more bytes may complete it. */
    public boolean isTruncated()
    {
        return truncated;
    }
}
