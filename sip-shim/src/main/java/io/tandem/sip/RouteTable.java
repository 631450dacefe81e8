package io.tandem.sip;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import javax.sip.address.Hop;
import javax.sip.address.SipURI;
import javax.sip.address.URI;

import gov.nist.javax.sip.stack.HopImpl;

/**
 * Where initial requests go: rules read top to bottom, the first whose pattern matches the Request-URI decides, and
 * its destinations are tried in order (the next one on a 503, or when one does not answer in time). A routing file
 * has one rule per line:
 * <pre>
 * # PATTERN                     DESTINATIONS (HOST:PORT[;udp|tcp], tried in order)
 * route 0044*@*                 10.1.0.5:5060 10.1.0.6:5060
 * route *@carrier.example.com   10.0.0.9:5060;udp
 * route *@*.example.org         10.0.0.20:5080
 * route *                       10.0.0.9:5060
 * </pre>
 * A pattern is {@code USER@DOMAIN} or {@code *}: the user part is a prefix ending in {@code *} or exact, the domain is
 * exact, {@code *.suffix}, or {@code *} (case does not matter in the domain). {@code --route HOST:PORT} is the
 * one-rule table {@code route * HOST:PORT}.
 */
final class RouteTable
{
    /** One rule: a Request-URI pattern and its destinations in order. */
    record Rule(String userPrefix, boolean userExact, String domain, List<Hop> destinations)
    {
        boolean matches(final String user, final String host)
        {
            final boolean userMatches = userExact ? userPrefix.equals(user) : user.startsWith(userPrefix);
            final String h = host.toLowerCase(Locale.ROOT);
            final boolean domainMatches = domain.equals("*") || (domain.startsWith("*.") ?
                h.endsWith(domain.substring(1)) : h.equals(domain));
            return userMatches && domainMatches;
        }
    }

    private final List<Rule> rules;

    private RouteTable(final List<Rule> rules)
    {
        this.rules = List.copyOf(rules);
    }

    /** Every initial request to one destination. */
    static RouteTable single(final String destination)
    {
        return new RouteTable(List.of(new Rule("", false, "*", List.of(hop(destination, "route")))));
    }

    static RouteTable read(final Path file) throws IOException
    {
        return parse(Files.readString(file, StandardCharsets.UTF_8), file.toString());
    }

    /** @throws IllegalArgumentException naming the line and what is wrong with it */
    static RouteTable parse(final String text, final String name)
    {
        final List<Rule> rules = new ArrayList<>();
        final String[] lines = text.split("\r?\n", -1);
        for (int i = 0; i < lines.length; i++)
        {
            final String line = lines[i].replaceFirst("#.*", "").trim();
            if (line.isEmpty())
            {
                continue;
            }
            final String where = name + ":" + (i + 1);
            final String[] words = line.split("\\s+");
            if (!words[0].equals("route"))
            {
                throw new IllegalArgumentException(where + ": a rule starts with 'route', not '" + words[0] + "'");
            }
            if (words.length < 3)
            {
                throw new IllegalArgumentException(where + ": 'route PATTERN DESTINATION...' needs a pattern and a " +
                    "destination");
            }
            final List<Hop> destinations = new ArrayList<>();
            for (int w = 2; w < words.length; w++)
            {
                destinations.add(hop(words[w], where));
            }
            rules.add(rule(words[1], destinations, where));
        }
        if (rules.isEmpty())
        {
            throw new IllegalArgumentException(name + ": no 'route' rule");
        }
        return new RouteTable(rules);
    }

    private static Rule rule(final String pattern, final List<Hop> destinations, final String where)
    {
        if (pattern.equals("*"))
        {
            return new Rule("", false, "*", destinations);
        }
        final int at = pattern.indexOf('@');
        if (at < 0 || pattern.indexOf('@', at + 1) >= 0)
        {
            throw new IllegalArgumentException(where + ": pattern '" + pattern + "' is not USER@DOMAIN or *");
        }
        final String user = pattern.substring(0, at);
        final String domain = pattern.substring(at + 1).toLowerCase(Locale.ROOT);
        final boolean prefix = user.endsWith("*");
        final String userPart = prefix ? user.substring(0, user.length() - 1) : user;
        if (userPart.contains("*") || domain.isEmpty() || (domain.contains("*") && !domain.equals("*") &&
            !(domain.startsWith("*.") && domain.indexOf('*', 1) < 0 && domain.length() > 2)))
        {
            throw new IllegalArgumentException(where + ": pattern '" + pattern + "': '*' ends a user prefix, starts a " +
                "domain suffix (*.example.com) or stands alone");
        }
        return new Rule(userPart, !prefix, domain, List.copyOf(destinations));
    }

    /**
     * {@code HOST:PORT[;udp|tcp]} as a hop, the host kept as written (not looked up): a routing file's destination,
     * and a call info's (written by {@link Routes#text}). @throws IllegalArgumentException naming what is wrong
     */
    static Hop hop(final String destination, final String where)
    {
        final int semicolon = destination.indexOf(';');
        final String transport = semicolon < 0 ? "udp" : destination.substring(semicolon + 1).toLowerCase(Locale.ROOT);
        if (!transport.equals("udp") && !transport.equals("tcp"))
        {
            throw new IllegalArgumentException(where + ": transport '" + transport + "' is not udp or tcp");
        }
        final String hostPort = semicolon < 0 ? destination : destination.substring(0, semicolon);
        final var address = SipContext.unresolved(hostPort, where + " destination");
        return new HopImpl(address.getHostString(), address.getPort(), transport);
    }

    /** The destinations of an initial request, in the order to try them; empty when no rule matches. */
    List<Hop> destinations(final URI requestUri)
    {
        final String user;
        final String host;
        if (requestUri instanceof SipURI sip)
        {
            user = sip.getUser() == null ? "" : sip.getUser();
            host = sip.getHost() == null ? "" : sip.getHost();
        }
        else
        {
            user = "";
            host = "";
        }
        for (final Rule rule : rules)
        {
            if (rule.matches(user, host))
            {
                return rule.destinations();
            }
        }
        return List.of();
    }

    List<Rule> rules()
    {
        return rules;
    }
}
