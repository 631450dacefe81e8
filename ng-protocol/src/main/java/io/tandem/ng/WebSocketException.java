package io.tandem.ng;

/** A WebSocket handshake or frame that breaks the protocol; the message says how. */
public final class WebSocketException extends Exception
{
    public WebSocketException(final String message)
    {
        super(message);
    }
}
