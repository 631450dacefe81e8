package io.tandem.media.control;

/** A request the ng protocol answers with {@code result: error} and this reason. */
public final class NgException extends Exception
{
    public NgException(final String reason)
    {
        super(reason, null, false, false);
    }
}
