%% Column buffers of an Arrow record batch (see ElixirScope.Agent.Arrow), in Erlang because
%% Erlang's binary comprehensions compile to in-place appends: 4-10x faster per value than
%% Elixir's `for ... into: <<>>`, which goes through Enum.reduce. Rows are tuples; `I` is the
%% column's element index.
-module('Elixir.ElixirScope.Agent.ArrowColumns').
-export([int64/2, int32/2, int8/2, varbinary/2]).

int64(Rows, I) -> << <<(element(I, R)):64/little-signed>> || R <- Rows >>.
int32(Rows, I) -> << <<(element(I, R)):32/little-signed>> || R <- Rows >>.
int8(Rows, I) -> << <<(element(I, R)):8/little-signed>> || R <- Rows >>.

%% Utf8 or Binary: [int32 offsets starting at 0, the bytes].
varbinary(Rows, I) ->
    Values = [element(I, R) || R <- Rows],
    Offsets = << <<E:32/little-signed>> || E <- ends(Values, 0) >>,
    [<<0:32/little-signed, Offsets/binary>>, iolist_to_binary(Values)].

ends([], _) -> [];
ends([V | T], P) ->
    E = P + byte_size(V),
    [E | ends(T, E)].
