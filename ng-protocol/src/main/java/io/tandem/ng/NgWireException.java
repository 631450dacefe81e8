package io.tandem.ng;

/** An ng message that does not decode (bencode or JSON); the message says what is wrong and where. */
public abstract class NgWireException extends Exception
{
    protected NgWireException(final String message)
    {
        super(message, null, false, false);
    }
}
