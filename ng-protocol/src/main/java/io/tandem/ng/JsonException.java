package io.tandem.ng;

/** Input that is not the JSON Tandem accepts (rtpengine's JSON flavour of ng); the message says what and where. */
public final class JsonException extends NgWireException
{
    public JsonException(final String message)
    {
        super(message);
    }
}
