#!/usr/bin/env python3
"""The book's update_token benchmark (Redis in Action, listings 4.7 to 4.9) with redis-py:
the reference point for `redkeep benchmark update-token`, run by scripts/bench/run against
the same server for the same duration.

The functions keep the book's shape; only redis-py 3+'s argument order changed
(zadd takes a mapping, zincrby takes the amount before the member).

    update_token.py --port 6379 --duration 5 [--unix-socket PATH] [--json]
"""
import argparse
import json
import sys
import time

try:
    import redis
except ImportError:
    sys.exit("update_token.py needs redis-py: pip install redis")


def update_token(conn, token, user, item=None):  # listing 4.7
    timestamp = time.time()
    conn.hset('login:', token, user)
    conn.zadd('recent:', {token: timestamp})
    if item:
        conn.zadd('viewed:' + token, {item: timestamp})
        conn.zremrangebyrank('viewed:' + token, 0, -26)
        conn.zincrby('viewed:', -1, item)


def update_token_pipeline(conn, token, user, item=None):  # listing 4.8
    timestamp = time.time()
    pipe = conn.pipeline(False)
    pipe.hset('login:', token, user)
    pipe.zadd('recent:', {token: timestamp})
    if item:
        pipe.zadd('viewed:' + token, {item: timestamp})
        pipe.zremrangebyrank('viewed:' + token, 0, -26)
        pipe.zincrby('viewed:', -1, item)
    pipe.execute()


def benchmark_update_token(conn, duration):  # listing 4.9, returning what it printed
    results = {}
    for function in (update_token, update_token_pipeline):
        count = 0
        start = time.time()
        end = start + duration
        while time.time() < end:
            count += 1
            function(conn, 'token', 'user', 'item')
        delta = time.time() - start
        results[function.__name__] = (count, delta, count / delta)
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--host', default='127.0.0.1')
    parser.add_argument('--port', type=int, default=6379)
    parser.add_argument('--unix-socket', help='connect through this unix socket instead')
    parser.add_argument('--duration', type=float, default=5.0, help='seconds per function')
    parser.add_argument('--json', action='store_true', help='one JSON line instead of the book\'s print')
    args = parser.parse_args()
    if args.unix_socket:
        conn = redis.Redis(unix_socket_path=args.unix_socket)
    else:
        conn = redis.Redis(host=args.host, port=args.port)
    try:
        conn.ping()
    except redis.exceptions.ConnectionError as error:
        sys.exit("update_token.py: cannot connect to %s: %s" % (args.unix_socket or "%s:%d" % (args.host, args.port), error))
    results = benchmark_update_token(conn, args.duration)
    if args.json:
        print(json.dumps({'redis_py': redis.__version__,
                          'plain': results['update_token'][2],
                          'pipeline': results['update_token_pipeline'][2]}))
    else:
        for name, (count, delta, rate) in results.items():
            print(name, count, delta, rate)


if __name__ == '__main__':
    main()
