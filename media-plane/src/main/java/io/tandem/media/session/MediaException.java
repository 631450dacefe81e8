package io.tandem.media.session;

/** A request the media plane cannot serve (no ports left, unknown call, bad parameters): reported, never fatal. */
public final class MediaException extends Exception
{
    public MediaException(final String message)
    {
        super(message, null, false, false);
    }
}
