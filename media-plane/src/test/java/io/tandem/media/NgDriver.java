package io.tandem.media;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import io.tandem.ng.NgClient;

/**
 * An ng client run by a test inside a node's network namespace (where the test's JVM cannot reach), as Kamailio
 * would drive Tandem there. One command per stdin line, one reply line each:
 * {@code offer CALL FROM PARTY_ADDRESS:PORT}, {@code answer CALL FROM TO PARTY_ADDRESS:PORT},
 * {@code delete CALL FROM}, {@code calls} (every call-id with its ports and peers, sorted, as ng query shows them).
 */
public final class NgDriver
{
    private NgDriver()
    {
    }

    public static void main(final String[] args) throws Exception
    {
        final String[] ng = args[0].split(":");
        final PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        try (NgClient client = new NgClient(new InetSocketAddress(ng[0], Integer.parseInt(ng[1])), Duration.ofSeconds(2), 3))
        {
            out.println("ready");
            final BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            String line;
            while ((line = in.readLine()) != null)
            {
                final String[] f = line.trim().split(" ");
                out.println(switch (f[0])
                {
                    case "offer" -> result(client.request(request("offer", f[1], f[2], null, f[3])));
                    case "answer" -> result(client.request(request("answer", f[1], f[2], f[3], f[4])));
                    case "delete" -> result(client.request(request("delete", f[1], f[2], null, null)));
                    case "calls" -> calls(client);
                    default -> "unknown " + f[0];
                });
            }
        }
    }

    private static Map<String, Object> request(final String command, final String callId, final String fromTag,
        final String toTag, final String party)
    {
        final Map<String, Object> request = new LinkedHashMap<>();
        request.put("command", command);
        request.put("call-id", callId);
        request.put("from-tag", fromTag);
        if (toTag != null)
        {
            request.put("to-tag", toTag);
        }
        if (party != null)
        {
            final String[] address = party.split(":");
            request.put("sdp", "v=0\r\no=- 1 1 IN IP4 " + address[0] + "\r\ns=-\r\nc=IN IP4 " + address[0] +
                "\r\nt=0 0\r\nm=audio " + address[1] + " RTP/AVP 0 8\r\na=sendrecv\r\n");
        }
        return request;
    }

    private static String result(final Map<String, Object> reply)
    {
        return "ok".equals(reply.get("result")) ? "ok" : "error " + reply.get("error-reason");
    }

    /** Every call with, per tag, its streams' local ports and endpoints: what must be equal on both nodes. */
    @SuppressWarnings("unchecked")
    private static String calls(final NgClient client) throws Exception
    {
        final Map<String, Object> list = new LinkedHashMap<>();
        list.put("command", "list");
        list.put("limit", 100000L);
        final Map<String, String> calls = new TreeMap<>();
        for (final Object id : (List<Object>)client.request(list).get("calls"))
        {
            final Map<String, Object> query = new LinkedHashMap<>();
            query.put("command", "query");
            query.put("call-id", id);
            final Map<String, Object> reply = client.request(query);
            final List<String> tags = new ArrayList<>();
            if (reply.get("tags") instanceof Map<?, ?> byTag)
            {
                for (final Object tag : byTag.values())
                {
                    final Map<String, Object> t = (Map<String, Object>)tag;
                    final StringBuilder streams = new StringBuilder(String.valueOf(t.get("tag")));
                    for (final Object media : (List<Object>)t.get("medias"))
                    {
                        for (final Object stream : (List<Object>)((Map<String, Object>)media).get("streams"))
                        {
                            final Map<String, Object> s = (Map<String, Object>)stream;
                            streams.append('/').append(s.get("local port")).append('>').append(s.get("endpoint"));
                        }
                    }
                    tags.add(streams.toString());
                }
            }
            tags.sort(null);
            calls.put(String.valueOf(id), String.join(",", tags));
        }
        return "calls " + calls.size() + " " + calls;
    }
}
