package io.tandem.media.control;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;

import io.tandem.media.stats.MediaCounters;
import io.tandem.ng.HttpListener;
import io.tandem.ng.NgDatagram;

/**
 * Tandem's HTTP interface, at the URIs rtpengine uses: {@code POST /ng} takes an ng message in the datagram format
 * (cookie, space, bencode or JSON dictionary) and answers in the same format; {@code GET /metrics} gives the
 * counters in Prometheus' text format; {@code GET /ping} answers {@code pong}. {@code /ng} is answered only for
 * sources in the ng access list (others get 403 and are counted); the other two for anyone who can reach the
 * listen address. A metrics listener ({@code --listen-metrics}) serves only those two, so they can be offered to a
 * monitoring network without {@code /ng}.
 * <p>
 * HTTP/1.1 with keep-alive on the shared {@link HttpListener}: at most {@code --ng-max-connections} open, a request
 * begun must be complete within the partial-message timeout (slowloris), and a connection idle between requests for
 * the HTTP idle timeout (30 s) is closed. Heads over {@value HttpListener#MAX_HEAD} bytes get 431 and chunked bodies
 * 411, both counted as malformed; a body over an ng message's limit gets ng's "Message too long" and the connection
 * ends.
 */
public final class NgHttpServer extends HttpListener
{
    public static final String NG_CONTENT_TYPE = "application/x-rtpengine-ng";

    private final NgContext ctx;
    private final NgCommands commands;
    private final MediaCounters counters;
    private final boolean ng;

    /** The HTTP listener of {@code --listen-http}: /ng, /metrics and /ping. */
    public NgHttpServer(final NgContext ctx, final NgCommands commands, final MediaCounters counters)
    {
        this(ctx, commands, counters, ctx.listenHttpAddress(), true);
    }

    /** A listener at {@code listen}: with {@code ng} false (the metrics listener) only /metrics and /ping. */
    public NgHttpServer(final NgContext ctx, final NgCommands commands, final MediaCounters counters,
        final InetSocketAddress listen, final boolean ng)
    {
        // any source may connect: /metrics is for anyone who can reach it, /ng checks the access list per request
        super(listen, ng ? "tandem-http" : "tandem-metrics", NgConnectionServer.limits(ctx), (source) -> true,
            NgConnectionServer.events(counters), NgServer.MAX_MESSAGE);
        this.ctx = ctx;
        this.commands = commands;
        this.counters = counters;
        this.ng = ng;
        start();
    }

    @Override
    protected Response respond(final Request request)
    {
        if (ng && request.path().equals("/ng"))
        {
            return ng(request);
        }
        return switch (request.path()) // the metrics listener has no /ng: not found, as any other path
        {
            case "/metrics" -> Response.get(request, "text/plain; version=0.0.4; charset=utf-8",
                counters.prometheusText());
            case "/ping" -> Response.get(request, "text/plain", "pong");
            default -> Response.notFound();
        };
    }

    private Response ng(final Request request)
    {
        // The source was allowed to connect only to reach /metrics and /ping: /ng has the ng access list.
        if (!ctx.allows(request.source().getAddress()))
        {
            counters.ngSourceRefused.increment();
            return Response.text(403, "Forbidden", "source not allowed");
        }
        if (!request.method().equals("POST"))
        {
            return Response.text(405, "Method Not Allowed", "POST an ng message to /ng");
        }
        final byte[] body = request.body();
        final int space = NgDatagram.cookieEnd(body, body.length);
        if (space <= 0)
        {
            counters.ngMalformed.increment();
            return Response.text(400, "Bad Request", "an ng message is a cookie, a space and a dictionary");
        }
        final String cookie = new String(body, 0, space, StandardCharsets.ISO_8859_1);
        return new Response(200, "OK", NG_CONTENT_TYPE,
            NgMessage.reply(commands, counters, cookie, body, space + 1, request.tooLong()));
    }
}
