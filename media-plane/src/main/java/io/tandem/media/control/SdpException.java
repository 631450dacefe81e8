package io.tandem.media.control;

/** SDP that cannot be relayed; the message names the line. */
public final class SdpException extends Exception
{
    public SdpException(final String message)
    {
        super(message, null, false, false);
    }
}
