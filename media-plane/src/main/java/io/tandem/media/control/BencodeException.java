package io.tandem.media.control;

/** Input that is not the bencode Tandem accepts; the message says what and where. */
public final class BencodeException extends Exception
{
    public BencodeException(final String message)
    {
        super(message, null, false, false);
    }
}
