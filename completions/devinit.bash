# bash completion for devinit(1). Installed as share/bash-completion/completions/devinit.

_devinit()
{
    local cur prev words cword
    _init_completion -n = || return

    local steps="deps generate wait migrate all"
    local opts="--config --skip= --only= --stop-timeout= --json -v --verbose -q --quiet -h --help -V --version"
    local subcommands="check sync status health"

    # After `--` or the app's command, complete the app's command line.
    local i
    for ((i = 1; i < cword; i++)); do
        case ${words[i]} in
        --)
            _command_offset $((i + 1))
            return
            ;;
        --config)
            ((i++))
            ;;
        -*) ;;
        check | sync | status | health) ;;
        *)
            _command_offset "$i"
            return
            ;;
        esac
    done

    case $prev in
    --config)
        _filedir
        return
        ;;
    --stop-timeout)
        return
        ;;
    esac

    case $cur in
    --skip=* | --only=*)
        # A comma-separated list: complete the last item.
        local list=${cur#*=} done_part=""
        [[ $list == *,* ]] && done_part=${list%,*},
        COMPREPLY=($(compgen -P "$done_part" -W "$steps" -- "${list##*,}"))
        compopt -o nospace 2>/dev/null
        return
        ;;
    --stop-timeout=*)
        return
        ;;
    -*)
        COMPREPLY=($(compgen -W "$opts" -- "$cur"))
        [[ ${COMPREPLY-} == *= ]] && compopt -o nospace 2>/dev/null
        return
        ;;
    esac

    COMPREPLY=($(compgen -W "$subcommands" -- "$cur") $(compgen -c -- "$cur"))
} &&
    complete -F _devinit devinit
