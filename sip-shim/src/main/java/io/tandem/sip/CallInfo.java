package io.tandem.sip;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * What the shim keeps of a call, the talk's {@code $sht(MyDlg=>$ci::key)}: where its INVITE went, its tags, the
 * media node that holds its media, and how far it got. Both nodes of a pair hold it (the state journal carries it),
 * so the node that takes the virtual IP relays a CANCEL or an error's ACK to where the INVITE went and ends the
 * media on the node that has it, whatever its own routing would choose now. Every record carries the wall-clock
 * time it expires at, so both nodes forget a call that never ended at the same moment.
 *
 * @param destination where the INVITE was relayed (its latest attempt): {@code host:port;transport}
 * @param attempt which of its rule's destinations that is, from 0 (the INVITE's Via branch depends on it)
 * @param mediaNode the index of the call's media node in the shim's list, or -1 for none
 */
record CallInfo(String callId, String fromTag, String toTag, String destination, int attempt, int mediaNode,
    State state, long expiresAtMs)
{
    /** How far a call got. Codes are the record's, fixed: never reorder, only add. */
    enum State
    {
        /** The INVITE went out; no final answer yet. */
        INVITING(1),
        /** A 2xx answered it. */
        CONFIRMED(2),
        /** An error answered it, or it was cancelled: kept a little while for the ACK and retransmissions. */
        FAILED(3),
        /** A BYE ended it: kept a little while for retransmissions. */
        ENDED(4);

        final int code;

        State(final int code)
        {
            this.code = code;
        }

        static State of(final int code)
        {
            for (final State state : values())
            {
                if (state.code == code)
                {
                    return state;
                }
            }
            return null;
        }
    }

    private static final byte VERSION = 1;
    /** No SIP header of ours is longer: a longer field is refused, never cut. */
    static final int MAX_FIELD = 1024;
    /** Version, state, attempt, media node, expiry: the fixed part before the fields. */
    static final int HEADER = 1 + 1 + 2 + 4 + 8;

    CallInfo
    {
        if (callId == null || callId.isEmpty() || destination == null || state == null)
        {
            throw new IllegalArgumentException("call info needs a Call-ID, a destination and a state");
        }
        if (attempt < 0 || attempt > Short.MAX_VALUE)
        {
            throw new IllegalArgumentException("call info attempt out of range: " + attempt);
        }
    }

    CallInfo with(final State newState, final String newToTag, final long newExpiresAtMs)
    {
        return new CallInfo(callId, fromTag, newToTag != null ? newToTag : toTag, destination, attempt, mediaNode,
            newState, newExpiresAtMs);
    }

    /** The INVITE went on to the next destination of its rule. */
    CallInfo redirected(final String newDestination, final int newAttempt)
    {
        return new CallInfo(callId, fromTag, toTag, newDestination, newAttempt, mediaNode, state, expiresAtMs);
    }

    /** Whether a request with this from-tag belongs to the call (a request without one is taken as belonging). */
    boolean matches(final String requestFromTag)
    {
        return fromTag == null || requestFromTag == null || fromTag.equals(requestFromTag);
    }

    byte[] encode()
    {
        final byte[][] fields = {utf8(callId), utf8(fromTag), utf8(toTag), utf8(destination)};
        int length = HEADER;
        for (final byte[] field : fields)
        {
            if (field != null && field.length > MAX_FIELD)
            {
                throw new IllegalArgumentException("call info field over " + MAX_FIELD + " bytes");
            }
            length += 2 + (field == null ? 0 : field.length);
        }
        final ByteBuffer out = ByteBuffer.allocate(length);
        out.put(VERSION).put((byte)state.code).putShort((short)attempt).putInt(mediaNode).putLong(expiresAtMs);
        for (final byte[] field : fields)
        {
            if (field == null)
            {
                out.putShort((short)-1);
            }
            else
            {
                out.putShort((short)field.length).put(field);
            }
        }
        return out.array();
    }

    /** A record as {@link #encode()} made it. @throws IllegalArgumentException naming what is wrong with it */
    static CallInfo decode(final byte[] record)
    {
        final ByteBuffer in = ByteBuffer.wrap(record);
        try
        {
            final byte version = in.get();
            if (version != VERSION)
            {
                throw new IllegalArgumentException("call info of unknown version " + version);
            }
            final State state = State.of(in.get());
            if (state == null)
            {
                throw new IllegalArgumentException("call info of unknown state");
            }
            final int attempt = in.getShort();
            final int mediaNode = in.getInt();
            final long expiresAtMs = in.getLong();
            final String callId = field(in);
            final String fromTag = field(in);
            final String toTag = field(in);
            final String destination = field(in);
            if (in.hasRemaining())
            {
                throw new IllegalArgumentException("call info with " + in.remaining() + " bytes after its end");
            }
            return new CallInfo(callId, fromTag, toTag, destination, attempt, mediaNode, state, expiresAtMs);
        }
        catch (final BufferUnderflowException | IndexOutOfBoundsException ex)
        {
            throw new IllegalArgumentException("call info cut short");
        }
    }

    private static String field(final ByteBuffer in)
    {
        final int length = in.getShort();
        if (length == -1)
        {
            return null;
        }
        if (length < 0 || length > MAX_FIELD)
        {
            throw new IllegalArgumentException("call info field of length " + length);
        }
        final ByteBuffer bytes = in.slice(in.position(), length);
        in.position(in.position() + length);
        try
        {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT).decode(bytes).toString();
        }
        catch (final CharacterCodingException ex)
        {
            throw new IllegalArgumentException("call info field not in UTF-8");
        }
    }

    private static byte[] utf8(final String text)
    {
        return text == null ? null : text.getBytes(StandardCharsets.UTF_8);
    }
}
