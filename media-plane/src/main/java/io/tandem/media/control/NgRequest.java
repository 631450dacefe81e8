package io.tandem.media.control;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Reading an ng request dictionary's own values (call-id, tags, sdp) and starting a reply. The options and flags
 * of a request are parsed once, typed, by the ng module's {@link io.tandem.ng.NgFlags}.
 */
final class NgRequest
{
    private NgRequest()
    {
    }

    static Map<String, Object> result(final String result)
    {
        final Map<String, Object> reply = new LinkedHashMap<>();
        reply.put("result", result);
        return reply;
    }

    static String string(final Map<String, Object> request, final String key) throws NgException
    {
        final Object value = request.get(key);
        if (value == null)
        {
            throw new NgException("No " + key + " in message");
        }
        if (!(value instanceof String s))
        {
            throw new NgException("Invalid " + key + ": must be a string");
        }
        if (s.isEmpty() && !key.equals("to-tag") && !key.equals("from-tag"))
        {
            throw new NgException("Invalid " + key + ": empty");
        }
        return s;
    }
}
